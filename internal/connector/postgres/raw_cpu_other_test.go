//go:build !linux

package postgres_test

import "time"

// processCPU and serverCPU are not measured here.
func processCPU() time.Duration { return 0 }

func serverCPU(string) time.Duration { return 0 }
