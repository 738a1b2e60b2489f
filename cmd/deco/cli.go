package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/deco-go/deco/cmd/deco/internal/demo"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1   // the command ran and failed
	exitUsage       = 2   // the command line is wrong
	exitInterrupted = 130 // Ctrl-C, as shells report SIGINT
)

const usage = `deco brings Python's deco ("Decorated Concurrency") to Go:
github.com/deco-go/deco.

Usage:

  deco demo [flags] [experiment ...]   reproduce the deco blog post's experiments
  deco workers [-url nats://host:port] list the workers of a NATS server and their calls
  deco help                            show this help

Run 'deco demo -h' for the experiments and their flags, 'deco workers -h'
for the listing's.
`

const demoUsage = `Usage: deco demo [flags] [sleep|order|thumbnails|downloads|all ...]

Reproduces the experiments of the 2016 blog post "Decorated Concurrency -
Python multiprocessing made really really easy" with github.com/deco-go/deco,
on this machine, each run serially (a plain loop) and then concurrently (the
same function decorated with deco):

  sleep       slow(index) sleeps; 3 calls take 3 s serially, 1 s with deco
  order       calls finish in any order, yet Wait returns results in call order
  thumbnails  100 thumbnails of a large JPEG that the program paints (CPU-bound)
  downloads   100 pages from a local HTTP server with seeded latency (I/O-bound)
  all         all four in that order, the default: about a minute on 2 cores

Each run prints the post's TOOK and WOULD HAVE TAKEN and shows a progress bar.
At the end come a summary table and a timeline of every call, as an SVG
picture and as a Chrome trace to open at https://ui.perfetto.dev.

Flags, before or after the experiments:
`

// run is the command: args without the program name, output to stdout and
// stderr. It returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "workers":
		return runWorkers(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "deco: unknown command %q (want demo, workers or help)\n", cmd)
		return exitUsage
	}
}

// runDemo is `deco demo`.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := demo.DefaultConfig()
	fs := flag.NewFlagSet("deco demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, on one line
	cfg.Flags(fs)

	// Flags may come before and after the experiments' names.
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			if printedHelp(err, fs, demoUsage, stdout) {
				return exitOK
			}
			return fail(stderr, exitUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	exps, err := demo.ParseExperiments(names)
	if err != nil {
		return fail(stderr, exitUsage, err)
	}
	cfg.Experiments = exps
	if err := cfg.Validate(); err != nil {
		return fail(stderr, exitUsage, err)
	}

	if _, err := demo.Run(ctx, cfg, stdout, stderr); err != nil {
		if errors.Is(err, demo.ErrInterrupted) {
			return fail(stderr, exitInterrupted, err)
		}
		return fail(stderr, exitFailed, err)
	}
	return exitOK
}

// fail prints err on one line of stderr and returns code.
func fail(stderr io.Writer, code int, err error) int {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
	fmt.Fprintf(stderr, "deco demo: %s\n", msg)
	return code
}

// printedHelp prints usage and fs's flags to w if err is the one Parse
// returns for -h or -help, and reports whether it was.
func printedHelp(err error, fs *flag.FlagSet, usage string, w io.Writer) bool {
	if !errors.Is(err, flag.ErrHelp) {
		return false
	}
	fmt.Fprint(w, usage)
	fs.SetOutput(w)
	fs.PrintDefaults()
	return true
}
