// Command cpu-burner gives the metering tests a pod whose usage is known: WORKERS goroutines spin without pause,
// so the container uses all the CPU its cgroup allows (a 200m limit reads as 200m), and MEMORY_MIB mebibytes are
// allocated, written page by page (so they are resident, not just reserved) and held until the process ends.
//
// Environment:
//
//	WORKERS     spinning goroutines (default 1; one per core of the CPU limit saturates it)
//	MEMORY_MIB  mebibytes to allocate, touch and hold (default 0)
//
// It prints one line when the memory is resident and then sleeps in the spinners until SIGTERM or SIGINT.
// Standard library only; built with CGO_ENABLED=0.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
)

// version is set by the image build from hack/images/cpu-burner/VERSION (-ldflags -X main.version=...).
var version = "dev"

const pageSize = 4096

// held keeps the allocation reachable for the life of the process.
var held []byte

func wholeNumber(name string, fallback, max int) int {
	raw := os.Getenv(name)
	if raw == "" {
		return fallback
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > max {
		fmt.Fprintf(os.Stderr, "cpu-burner: %s=%q must be a whole number from 0 to %d\n", name, raw, max)
		os.Exit(2)
	}
	return n
}

func spin(id int) {
	x := uint64(id) + 1
	for {
		// xorshift: cheap work the compiler cannot remove.
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		if x == 0 {
			fmt.Println("unreachable")
		}
	}
}

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "--version") {
		fmt.Printf("cpu-burner %s (kubeplus)\n", version)
		return
	}
	workers := wholeNumber("WORKERS", 1, 1024)
	mib := wholeNumber("MEMORY_MIB", 0, 1<<20)
	if workers > 0 && runtime.GOMAXPROCS(0) < workers+1 {
		runtime.GOMAXPROCS(workers + 1)
	}
	held = make([]byte, mib<<20)
	for i := 0; i < len(held); i += pageSize {
		held[i] = byte(i/pageSize) | 1
	}
	fmt.Printf("cpu-burner %s workers=%d memory_mib=%d resident\n", version, workers, mib)
	for i := range workers {
		go spin(i)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	sig := <-signals
	fmt.Printf("cpu-burner stopping, signal: %v, held %d bytes\n", sig, len(held))
}
