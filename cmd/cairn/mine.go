package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairnchain/cairn/miner/pow"
)

// mineCommand is `cairn mine --benchmark`: the hash rate of this machine,
// without a node, like cpuminer's benchmark mode.
func mineCommand() *cli.Command {
	return &cli.Command{
		Name:      "mine",
		Usage:     "measure this machine's mining hash rate",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "benchmark", Usage: "hash random headers and report the rate (required)", EnvVars: envVar("benchmark")},
			&cli.IntFlag{Name: "threads", Value: runtime.NumCPU(), Usage: "worker threads", EnvVars: envVar("threads")},
			&cli.DurationFlag{Name: "duration", Value: 10 * time.Second, Usage: "how long to measure", EnvVars: envVar("duration")},
			&cli.BoolFlag{Name: "json", Usage: "end with one JSON object (threads, hashes_per_sec, ...)", EnvVars: envVar("json")},
		},
		Action: func(c *cli.Context) error {
			if !c.Bool("benchmark") {
				return errors.New("cairn mine needs --benchmark (to mine on a node: cairn node --mine --miner-address ADDR)")
			}
			if c.NArg() > 0 {
				return fmt.Errorf("unexpected argument %q", c.Args().First())
			}
			threads, d := c.Int("threads"), c.Duration("duration")
			if threads < 1 || threads > 1024 {
				return fmt.Errorf("--threads %d: want 1 to 1024", threads)
			}
			if d <= 0 {
				return fmt.Errorf("--duration %v: want a positive duration", d)
			}
			fmt.Fprintf(c.App.ErrWriter, "hashing on %d threads for %v (%s kernel)...\n", threads, d, pow.Kernel())
			r := pow.Benchmark(c.Context, threads, d)
			if c.Bool("json") {
				out, _ := json.Marshal(r)
				fmt.Fprintln(c.App.Writer, string(out))
				return nil
			}
			fmt.Fprintf(c.App.Writer, "%d threads: %.2f MH/s (%.2f MH/s per thread, %s kernel, %d hashes in %.1f s)\n",
				r.Threads, r.HashesPerSec/1e6, r.PerThread/1e6, r.Kernel, r.Hashes, r.Seconds)
			return nil
		},
	}
}
