// Command hello-go is built by lkpkg from the pinned Go toolchain and the
// mirrored module closure, with the network off.
package main

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

func main() {
	var u unix.Utsname
	_ = unix.Uname(&u)
	fmt.Printf("hello from Go %s on %s/%s (kernel %s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, unix.ByteSliceToString(u.Release[:]))
}
