//go:build race

package miner

// raceEnabled is true when the race detector slows every Go instruction.
const raceEnabled = true
