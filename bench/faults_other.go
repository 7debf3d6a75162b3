//go:build !unix

package main

import "os"

// pageFaults is -1: this system does not report a process's page faults.
func pageFaults(*os.ProcessState) int64 { return -1 }
