package cache

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// crashDirEnv tells a re-executed test binary to act as the crashing writer.
const crashDirEnv = "LKPKG_CACHE_CRASH_DIR"

// TestCrashWriter is the child half of TestCrashRecovery: it writes, removes
// and prunes in a loop until it is killed.
func TestCrashWriter(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only runs as TestCrashRecovery's child process")
	}
	ctx := context.Background()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		writeIndex(t, c, fmt.Sprintf("lkpkg/crash%d:v1", i%8), newTestIndex(t))
		switch i % 5 {
		case 3:
			if err := c.Remove(ctx, fmt.Sprintf("lkpkg/crash%d:v1", (i+5)%8)); err != nil {
				t.Log(err) // may not exist yet
			}
		case 4:
			if _, err := c.Prune(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a subprocess")
	}
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Let the child get going (a -race binary starts slowly), then give it
	// ~300ms of writing before pulling the plug mid-operation.
	deadline := time.Now().Add(30 * time.Second)
	for {
		entries, err := c.List()
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("child wrote nothing within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("child exited cleanly; it should have been killed")
	}

	c, err = Open(dir)
	if err != nil {
		t.Fatalf("Open after crash: %v", err)
	}
	ctx := context.Background()
	if err := c.Verify(ctx); err != nil {
		t.Fatalf("Verify after crash: %v", err)
	}
	entries, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no entries survived")
	}
	for _, e := range entries {
		if e.Descriptor.MediaType.IsIndex() {
			idx, err := c.ImageIndex(e.Ref)
			if err != nil {
				t.Fatalf("%s: %v", e.Ref, err)
			}
			checkIndex(t, idx)
		} else if _, err := c.Image(e.Ref, *e.Descriptor.Platform); err != nil {
			t.Fatalf("%s: %v", e.Ref, err)
		}
	}
	// The debris of the crash (temp files) is fresh, so Prune keeps it, but
	// it must still leave a consistent cache.
	if _, err := c.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(ctx); err != nil {
		t.Fatalf("Verify after prune: %v", err)
	}
	t.Logf("%d entries survived the crash", len(entries))
}
