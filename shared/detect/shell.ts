// A small POSIX shell reader: enough to find commands, their words and the operators between them.
// Expansions ($(..), ${..}, $VAR, `..`) are kept verbatim in a word's text; quotes are removed.

// Expansions ($(..), ${..}, $VAR, `..`) are kept verbatim in a word's text; quotes are removed.

export interface ShellWord {
  kind: 'word';
  text: string;
  /** Any part was quoted or escaped (so `true` in quotes is still the word true, but `2` before `>` is not an fd). */
  quoted: boolean;
}
type ShellOperator = '&&' | '||' | ';' | ';;' | '|' | '|&' | '&' | '(' | ')' | '\n';
interface ShellOp {
  kind: 'op';
  op: ShellOperator;
}
export type ShellToken = ShellWord | ShellOp;

/** Index just past the `)` or `}` closing the expansion that starts at src[start] === '$'. */
export function endOfExpansion(src: string, start: number): number {
  const open = src[start + 1];
  const close = open === '(' ? ')' : '}';
  let depth = 0;
  let j = start + 1;
  while (j < src.length) {
    const c = src[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === "'") {
      const end = src.indexOf("'", j + 1);
      j = end < 0 ? src.length : end + 1;
      continue;
    }
    if (c === '"') {
      j++;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      j++;
      continue;
    }
    if (c === open) depth++;
    else if (c === close) {
      depth--;
      if (depth === 0) return j + 1;
    }
    j++;
  }
  return src.length;
}

/** The words and operators of a script as they are read; one method per kind of input. */
class ShellReader {
  readonly tokens: ShellToken[] = [];
  private buf = '';
  private inWord = false;
  private quoted = false;
  /** The next word is the target of a redirection (`> file`): dropped. */
  private dropNextWord = false;
  private i = 0;

  constructor(private readonly src: string) {}

  read(): ShellToken[] {
    while (this.i < this.src.length) this.step(this.src[this.i] ?? '', this.src[this.i + 1] ?? '');
    this.flush();
    return this.tokens;
  }

  private step(c: string, next: string): void {
    if (c === '\\') this.escape(next);
    else if (c === "'") this.singleQuoted();
    else if (c === '"') this.doubleQuoted();
    else if (c === '$' && (next === '(' || next === '{')) this.expansion();
    else if (c === '`') this.backticks();
    else if (c === '#' && !this.inWord) this.comment();
    else if (c === ' ' || c === '\t' || c === '\r') this.blank();
    else if (c === '\n') this.newline();
    else if (c === '>' || c === '<' || (c === '&' && next === '>')) this.redirection();
    else if (c === '&' || c === '|' || c === ';' || c === '(' || c === ')') this.operator(c, next);
    else this.append(c, 1);
  }

  /** End the current word (a redirection target is dropped). */
  private flush(): void {
    if (this.inWord) {
      if (this.dropNextWord) this.dropNextWord = false;
      else this.tokens.push({ kind: 'word', text: this.buf, quoted: this.quoted });
    }
    this.buf = '';
    this.inWord = false;
    this.quoted = false;
  }

  private append(text: string, consumed: number, quoted = false): void {
    this.buf += text;
    this.inWord = true;
    if (quoted) this.quoted = true;
    this.i += consumed;
  }

  /** `\x` is a quoted x; `\` + newline is a line continuation. */
  private escape(next: string): void {
    if (next === '\n') this.i += 2;
    else this.append(next, 2, true);
  }

  private singleQuoted(): void {
    const end = this.src.indexOf("'", this.i + 1);
    const stop = end < 0 ? this.src.length : end;
    this.append(this.src.slice(this.i + 1, stop), stop + 1 - this.i, true);
  }

  /** Inside "..": `\` escapes only " \ $ ` and newline; expansions are kept verbatim. */
  private doubleQuoted(): void {
    const src = this.src;
    this.append('', 1, true);
    while (this.i < src.length && src[this.i] !== '"') {
      const d = src[this.i] ?? '';
      const e = src[this.i + 1] ?? '';
      if (d === '\\' && '"\\$`\n'.includes(e) && e !== '') {
        this.append(e === '\n' ? '' : e, 2);
      } else if (d === '$' && (e === '(' || e === '{')) {
        const end = endOfExpansion(src, this.i);
        this.append(src.slice(this.i, end), end - this.i);
      } else {
        this.append(d, 1);
      }
    }
    this.i++;
  }

  private expansion(): void {
    const end = endOfExpansion(this.src, this.i);
    this.append(this.src.slice(this.i, end), end - this.i);
  }

  private backticks(): void {
    const end = this.src.indexOf('`', this.i + 1);
    const stop = end < 0 ? this.src.length : end + 1;
    this.append(this.src.slice(this.i, stop), stop - this.i);
  }

  private comment(): void {
    while (this.i < this.src.length && this.src[this.i] !== '\n') this.i++;
  }

  private blank(): void {
    this.flush();
    this.i++;
  }

  private newline(): void {
    this.flush();
    this.tokens.push({ kind: 'op', op: '\n' });
    this.i++;
  }

  /** `>`, `>>`, `2>&1`, `&>`, `<`: an fd number before it is no word, and the target word is dropped. */
  private redirection(): void {
    if (this.inWord && !this.quoted && /^[0-9]+$/.test(this.buf)) {
      this.buf = ''; // a file descriptor number: `2>&1`
      this.inWord = false;
    } else {
      this.flush();
    }
    this.i++;
    while (this.i < this.src.length && '<>&|'.includes(this.src[this.i] ?? '')) this.i++;
    this.dropNextWord = true;
  }

  private operator(c: string, next: string): void {
    this.flush();
    const two = c + next;
    if (two === '&&' || two === '||' || two === ';;' || two === '|&') {
      this.tokens.push({ kind: 'op', op: two });
      this.i += 2;
    } else {
      this.tokens.push({ kind: 'op', op: c as ShellOperator });
      this.i++;
    }
  }
}

/** Read a script into words (quotes removed, expansions verbatim) and operators; comments and redirections go. */
export function tokenizeShell(src: string): ShellToken[] {
  return new ShellReader(src).read();
}

export interface SimpleCommand {
  words: ShellWord[];
  /** Operator before this command (null at the start). */
  before: ShellOperator | null;
  /** Operator after this command (null at the end). */
  after: ShellOperator | null;
}

/** Split a script into simple commands; a newline right after `&&`, `||` or `|` continues the list. */
export function splitCommands(tokens: ShellToken[]): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: ShellWord[] = [];
  let before: ShellOperator | null = null;
  for (const token of tokens) {
    if (token.kind === 'word') {
      words.push(token);
      continue;
    }
    if (words.length === 0) {
      if (token.op !== '\n' && token.op !== '(' && token.op !== ')') before = token.op;
      continue;
    }
    commands.push({ words, before, after: token.op === '\n' ? ';' : token.op });
    before = token.op === '\n' ? ';' : token.op;
    words = [];
  }
  if (words.length > 0) commands.push({ words, before, after: null });
  return commands;
}
