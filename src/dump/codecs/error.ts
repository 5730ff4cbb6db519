/**
 * A compressed page that does not decode. The message says what is wrong and at which
 * offset of the compressed input; the caller prefixes the file and the page.
 */
export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

export const hex = (n: number): string => '0x' + n.toString(16);
