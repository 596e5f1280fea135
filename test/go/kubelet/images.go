package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// imageEntry maps image names (without tag or digest) to a local program.
type imageEntry struct {
	Names      []string          `json:"names"`
	Entrypoint []string          `json:"entrypoint"`
	Cmd        []string          `json:"cmd,omitempty"`
	WorkingDir string            `json:"workingDir,omitempty"`
	Env        map[string]string `json:"env,omitempty"`
	// Commands maps programs that exist only inside the real image (e.g.
	// /docker-entrypoint.sh) to local argv prefixes: a container command
	// whose first word is a key gets it replaced.
	Commands map[string][]string `json:"commands,omitempty"`
}

type imagesFile struct {
	Comment string       `json:"_comment,omitempty"`
	Images  []imageEntry `json:"images"`
}

type imageMap struct {
	entries []imageEntry
}

// loadImages reads images.json and resolves $REPO, $CDK_CACHE and $CDK_STATE
// (also written ${NAME}) in entrypoint, cmd, workingDir and env values.
func loadImages(path string, vars map[string]string) (*imageMap, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f imagesFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sub := func(s string) string { return substPlaceholders(s, vars) }
	for i := range f.Images {
		e := &f.Images[i]
		for j := range e.Entrypoint {
			e.Entrypoint[j] = sub(e.Entrypoint[j])
		}
		for j := range e.Cmd {
			e.Cmd[j] = sub(e.Cmd[j])
		}
		e.WorkingDir = sub(e.WorkingDir)
		for k, v := range e.Env {
			e.Env[k] = sub(v)
		}
		for _, v := range e.Commands {
			for j := range v {
				v[j] = sub(v[j])
			}
		}
	}
	return &imageMap{entries: f.Images}, nil
}

func substPlaceholders(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	// longest names first so $CDK_STATE is not hit by a shorter $CDK_...
	for _, k := range []string{"CDK_CACHE", "CDK_STATE", "REPO"} {
		if v, ok := vars[k]; ok {
			s = strings.ReplaceAll(s, "$"+k, v)
		}
	}
	return s
}

// imageRepo strips the tag and digest: "docker.io/crate/crate:5.10@sha256:.."
// -> "docker.io/crate/crate".
func imageRepo(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	slash := strings.LastIndexByte(image, '/')
	if i := strings.LastIndexByte(image, ':'); i > slash {
		image = image[:i]
	}
	return image
}

func (m *imageMap) lookup(image string) *imageEntry {
	repo := imageRepo(image)
	cands := []string{repo}
	if r, ok := strings.CutPrefix(repo, "docker.io/library/"); ok {
		cands = append(cands, r)
	} else if r, ok := strings.CutPrefix(repo, "docker.io/"); ok {
		cands = append(cands, r)
	}
	for i := range m.entries {
		for _, n := range m.entries[i].Names {
			for _, c := range cands {
				if n == c {
					return &m.entries[i]
				}
			}
		}
	}
	return nil
}

// argv applies Docker semantics: command replaces the entrypoint, args
// replace the image's CMD. Unknown images have neither.
func (m *imageMap) argv(image string, command, args []string) ([]string, *imageEntry, error) {
	e := m.lookup(image)
	var ep, cmd []string
	if e != nil {
		ep, cmd = e.Entrypoint, e.Cmd
	}
	var out []string
	if len(command) > 0 {
		if e != nil {
			if repl, ok := e.Commands[command[0]]; ok {
				out = append(out, repl...)
				command = command[1:]
			}
		}
		out = append(append(out, command...), args...)
	} else {
		out = append(out, ep...)
		if len(args) > 0 {
			out = append(out, args...)
		} else {
			out = append(out, cmd...)
		}
	}
	if len(out) == 0 {
		return nil, e, fmt.Errorf("image %q has no local entrypoint (test/cluster/images.json) and the container has no command", image)
	}
	return out, e, nil
}
