// Package sqlparse parses the small, tolerant subset of CrateDB SQL that the
// simulator answers: SELECT over sys tables, SET/RESET GLOBAL and
// ALTER CLUSTER DECOMMISSION.
package sqlparse

import (
	"fmt"
	"strings"
	"unicode"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tQIdent // "quoted identifier"
	tString // 'string' or $$dollar$$
	tNumber
	tParam // ? or $n
	tSym
)

type token struct {
	kind tokKind
	text string // identifier lower-cased, string/ident unescaped
	raw  string // original text (for labels and error messages)
	num  int    // parameter index (1-based) for tParam; 0 for '?'
	pos  int
}

// Error is a parse error; the simulator turns it into CrateDB's SQLParseException (4000).
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errf(format string, a ...any) error { return &Error{Msg: fmt.Sprintf(format, a...)} }

func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '\'':
			start := i
			i++
			var b strings.Builder
			closed := false
			for i < len(s) {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, errf("line 1:%d: unterminated string literal", start+1)
			}
			out = append(out, token{kind: tString, text: b.String(), raw: s[start:i], pos: start})
		case c == '"':
			start := i
			i++
			var b strings.Builder
			closed := false
			for i < len(s) {
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, errf("line 1:%d: unterminated quoted identifier", start+1)
			}
			out = append(out, token{kind: tQIdent, text: b.String(), raw: s[start:i], pos: start})
		case c == '?':
			out = append(out, token{kind: tParam, raw: "?", pos: i})
			i++
		case c == '$':
			start := i
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j > i+1 {
				n := 0
				fmt.Sscanf(s[i+1:j], "%d", &n)
				out = append(out, token{kind: tParam, raw: s[i:j], num: n, pos: start})
				i = j
				continue
			}
			// dollar quoting: $tag$ ... $tag$
			j = i + 1
			for j < len(s) && (isIdentChar(s[j])) {
				j++
			}
			if j >= len(s) || s[j] != '$' {
				return nil, errf("line 1:%d: token recognition error at: '$'", start+1)
			}
			tag := s[i : j+1]
			end := strings.Index(s[j+1:], tag)
			if end < 0 {
				return nil, errf("line 1:%d: unterminated dollar-quoted string", start+1)
			}
			body := s[j+1 : j+1+end]
			i = j + 1 + end + len(tag)
			out = append(out, token{kind: tString, text: body, raw: s[start:i], pos: start})
		case c >= '0' && c <= '9':
			start := i
			for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
				i++
			}
			out = append(out, token{kind: tNumber, text: s[start:i], raw: s[start:i], pos: start})
		case isIdentStart(c):
			start := i
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
			out = append(out, token{kind: tIdent, text: strings.ToLower(s[start:i]), raw: s[start:i], pos: start})
		default:
			start := i
			two := ""
			if i+1 < len(s) {
				two = s[i : i+2]
			}
			switch two {
			case "!=", "<>", "<=", ">=", "::":
				out = append(out, token{kind: tSym, text: two, raw: two, pos: start})
				i += 2
				continue
			}
			if strings.ContainsRune("(),.[]=<>*;+-", rune(c)) {
				out = append(out, token{kind: tSym, text: string(c), raw: string(c), pos: start})
				i++
				continue
			}
			return nil, errf("line 1:%d: token recognition error at: '%c'", start+1, c)
		}
	}
	out = append(out, token{kind: tEOF, pos: len(s)})
	return out, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || unicode.IsLetter(rune(c)) || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9')
}
