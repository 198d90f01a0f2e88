package flock

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestLockModes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l")
	tests := []struct {
		name       string
		held, want Mode
		expectBusy bool
	}{
		{"exclusive blocks exclusive", Exclusive, Exclusive, true},
		{"exclusive blocks shared", Exclusive, Shared, true},
		{"shared blocks exclusive", Shared, Exclusive, true},
		{"shared allows shared", Shared, Shared, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unlock, err := Lock(context.Background(), p, tt.held)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			u2, err := TryLock(p, tt.want)
			if tt.expectBusy != errors.Is(err, ErrBusy) {
				t.Fatalf("TryLock: err = %v, want busy %v", err, tt.expectBusy)
			}
			if err == nil {
				u2()
			}
		})
	}
}

func TestLockHonoursContext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l")
	unlock, err := Lock(context.Background(), p, Exclusive)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Lock(ctx, p, Exclusive)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("cancellation took %v", d)
	}
}

func TestUnlockReleasesOnceAndFreesTheLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l")
	unlock, err := Lock(context.Background(), p, Exclusive)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	unlock()
	u2, err := TryLock(p, Exclusive)
	if err != nil {
		t.Fatalf("lock not released: %v", err)
	}
	u2()
}
