// Command dockerfile_check parses a Dockerfile with BuildKit's own front end (the parser and
// instruction decoder `docker build` uses) and prints its stages and instructions as JSON, so
// operator/Dockerfile is checked here, where no Docker engine can build it.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

type command struct {
	Name string   `json:"name"`
	Args []string `json:"args"`
	Line int      `json:"line"`
	// Shell is true for the shell form (`ENTRYPOINT cmd`), which wraps the process in /bin/sh -c.
	Shell bool `json:"shell"`
}

type stage struct {
	Name     string    `json:"name"`
	Base     string    `json:"base"`
	Commands []command `json:"commands"`
}

type report struct {
	Stages   []stage  `json:"stages"`
	Warnings []string `json:"warnings"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfile_check PATH")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	defer f.Close()
	out := report{Stages: []stage{}, Warnings: []string{}}
	result, err := parser.Parse(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parse:", err)
		os.Exit(1)
	}
	for _, w := range result.Warnings {
		out.Warnings = append(out.Warnings, w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, description, url, fmtmsg string, location []parser.Range) {
		out.Warnings = append(out.Warnings, rule+": "+fmtmsg)
	}})
	stages, _, err := instructions.Parse(result.AST, lint)
	if err != nil {
		fmt.Fprintln(os.Stderr, "instructions:", err)
		os.Exit(1)
	}
	for _, s := range stages {
		st := stage{Name: s.Name, Base: s.BaseName, Commands: []command{}}
		for _, c := range s.Commands {
			line := 0
			if loc := c.Location(); len(loc) > 0 {
				line = loc[0].Start.Line
			}
			st.Commands = append(st.Commands, command{Name: c.Name(), Args: argsOf(c), Line: line, Shell: shellForm(c)})
		}
		out.Stages = append(out.Stages, st)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		os.Exit(3)
	}
}

// argsOf returns the decoded arguments of the instructions whose values the spec checks.
func argsOf(c instructions.Command) []string {
	switch v := c.(type) {
	case *instructions.EntrypointCommand:
		return v.CmdLine
	case *instructions.UserCommand:
		return []string{v.User}
	case *instructions.WorkdirCommand:
		return []string{v.Path}
	case *instructions.ExposeCommand:
		return v.Ports
	case *instructions.StopSignalCommand:
		return []string{v.Signal}
	case *instructions.EnvCommand:
		kv := []string{}
		for _, e := range v.Env {
			kv = append(kv, e.Key+"="+e.Value)
		}
		return kv
	case *instructions.CopyCommand:
		return append([]string{"from=" + v.From}, append(v.SourcePaths, v.DestPath)...)
	case *instructions.RunCommand:
		return v.CmdLine
	}
	return []string{}
}

func shellForm(c instructions.Command) bool {
	switch v := c.(type) {
	case *instructions.EntrypointCommand:
		return v.PrependShell
	case *instructions.CmdCommand:
		return v.PrependShell
	case *instructions.RunCommand:
		return v.PrependShell
	}
	return false
}
