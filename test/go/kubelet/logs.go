package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"sync"
	"time"
)

// logFile is one container run's combined stdout+stderr log. The file holds
// the raw output; the start offset and arrival time of every line are kept
// in memory for timestamps, sinceSeconds and tailLines.
type logFile struct {
	path string

	mu      sync.Mutex
	f       *os.File
	size    int64
	offsets []int64
	times   []time.Time
	lastNL  bool // the last byte written was '\n' (or nothing written yet)
	done    bool
	notify  chan struct{} // closed and replaced on every change
}

func newLogFile(path string) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return &logFile{path: path, f: f, lastNL: true, notify: make(chan struct{})}, nil
}

// Write appends p, recording the start of each new line.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	for i := 0; i < len(p); i++ {
		if l.lastNL {
			l.offsets = append(l.offsets, l.size+int64(i))
			l.times = append(l.times, now)
		}
		l.lastNL = p[i] == '\n'
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	close(l.notify)
	l.notify = make(chan struct{})
	return n, err
}

// pump copies the read end of the container's output pipe into the log
// until EOF (every holder of the write end exited or closed it).
func (l *logFile) pump(r io.ReadCloser) {
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = l.Write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	r.Close()
}

// finish marks the run as ended: followers stop after the last byte.
func (l *logFile) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return
	}
	l.done = true
	l.f.Close()
	close(l.notify)
	l.notify = make(chan struct{})
}

type logLine struct {
	start, end int64
	t          time.Time
}

// snapshot returns the complete lines from index `from` on (the last line
// counts as complete when it ends with '\n' or the run is done), whether the
// run is done, and a channel closed on the next change.
func (l *logFile) snapshot(from int) ([]logLine, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logLine
	for i := from; i < len(l.offsets); i++ {
		end := l.size
		if i+1 < len(l.offsets) {
			end = l.offsets[i+1]
		} else if !l.lastNL && !l.done {
			break
		}
		out = append(out, logLine{l.offsets[i], end, l.times[i]})
	}
	return out, l.done, l.notify
}

type logOptions struct {
	follow     bool
	tailLines  int64 // <0: all
	since      time.Time
	timestamps bool
	limitBytes int64 // <=0: unlimited
}

// stream writes the log to w following opts; flush is called after each
// write. It returns when done (or, with follow, when the run ended and all
// was written, or ctx is cancelled).
func (l *logFile) stream(ctx context.Context, w io.Writer, flush func(), opts logOptions) error {
	rf, err := os.Open(l.path)
	if err != nil {
		return err
	}
	defer rf.Close()
	lines, done, ch := l.snapshot(0)
	start := 0
	if !opts.since.IsZero() {
		for start < len(lines) && lines[start].t.Before(opts.since) {
			start++
		}
	}
	if opts.tailLines >= 0 && int64(len(lines)-start) > opts.tailLines {
		start = len(lines) - int(opts.tailLines)
	}
	written := int64(0)
	next := len(lines)
	lines = lines[start:]
	bw := bufio.NewWriter(w)
	for {
		for _, ln := range lines {
			buf := make([]byte, ln.end-ln.start)
			if _, err := rf.ReadAt(buf, ln.start); err != nil && err != io.EOF {
				return err
			}
			if opts.timestamps {
				buf = append([]byte(ln.t.UTC().Format(time.RFC3339Nano)+" "), buf...)
			}
			if opts.limitBytes > 0 && written+int64(len(buf)) > opts.limitBytes {
				buf = buf[:opts.limitBytes-written]
			}
			if _, err := bw.Write(buf); err != nil {
				return err
			}
			written += int64(len(buf))
			if opts.limitBytes > 0 && written >= opts.limitBytes {
				bw.Flush()
				flush()
				return nil
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		flush()
		if !opts.follow || done {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ch:
		}
		lines, done, ch = l.snapshot(next)
		next += len(lines)
	}
}

// tail returns the last maxLines lines, at most maxBytes bytes, of the log
// (for FallbackToLogsOnError).
func (l *logFile) tail(maxLines int, maxBytes int) string {
	data, err := os.ReadFile(l.path)
	if err != nil {
		return ""
	}
	return tailText(data, maxLines, maxBytes)
}

func tailText(data []byte, maxLines, maxBytes int) string {
	if len(data) > maxBytes {
		data = data[len(data)-maxBytes:]
	}
	trimmed := bytes.TrimSuffix(data, []byte("\n"))
	n := 0
	for i := len(trimmed) - 1; i >= 0; i-- {
		if trimmed[i] == '\n' {
			n++
			if n == maxLines {
				return string(data[i+1:])
			}
		}
	}
	return string(data)
}
