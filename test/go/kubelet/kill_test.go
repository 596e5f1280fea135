package main

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestKillStateProcs(t *testing.T) {
	state := t.TempDir()
	cmd := exec.Command("sleep", "30")
	cmd.Env = append(os.Environ(), "CDK_TERMINATION_LOG="+state+"/pods/u/c/termination-log.0")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	other := exec.Command("sleep", "30")
	other.Env = append(os.Environ(), "CDK_TERMINATION_LOG=/elsewhere/pods/u/c/termination-log.0")
	_ = other.Start()
	defer other.Process.Kill()
	time.Sleep(50 * time.Millisecond)
	if n := killStateProcs(state); n != 1 {
		t.Fatalf("killed %d, want 1", n)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("process not killed")
	}
	if other.ProcessState != nil {
		t.Fatal("other state's process was killed")
	}
}
