// Package units parses and prints sizes, in powers of 1024 and spelled
// MiB, GiB..., the same way for every command-line flag and message.
package units

import (
	"fmt"
	"strconv"
	"strings"
)

// MiB is a mebibyte.
const MiB = 1 << 20

// ParseSize reads a positive byte count: digits, then optionally a unit K,
// M, G or T (powers of 1024), in either case, with an optional "i", "iB" or
// "B" after it ("512M", "512m", "2GiB", "2gb"); a lone "B" means bytes. A
// size that does not fit in an int64 is an error.
func ParseSize(s string) (int64, error) {
	n, shift, err := parse(s)
	if err != nil {
		return 0, err
	}
	return n << shift, nil
}

// parse splits s into a count and the shift of its unit.
func parse(s string) (int64, int, error) {
	bad := fmt.Errorf("%q: want a positive size such as 512M, 2G or 2GiB (units K, M, G, T: powers of 1024)", s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	digits, unit := s[:i], strings.Map(func(r rune) rune { // ASCII only: no "ı" for "i"
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s[i:])
	if digits == "" {
		return 0, 0, bad
	}
	shift := 0
	if unit != "" {
		if p := strings.IndexByte("KMGT", unit[0]); p >= 0 {
			shift, unit = 10*(p+1), unit[1:]
			switch unit {
			case "", "I", "IB", "B":
			default:
				return 0, 0, bad
			}
		} else if unit != "B" {
			return 0, 0, bad
		}
	}
	tooLarge := fmt.Errorf("%q: too large (the most is 2^63-1 bytes)", s)
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil { // digits only: out of range
		return 0, 0, tooLarge
	}
	if n <= 0 {
		return 0, 0, bad
	}
	if n > (1<<63-1)>>shift { // n << shift would overflow
		return 0, 0, tooLarge
	}
	return n, shift, nil
}

// maxMiB bounds ParseMiB: 1 PiB of guest memory.
const maxMiB = 1 << 30

// ParseMiB reads a memory size in MiB, as people write it for QEMU's -m:
// a bare number is MiB ("1024"); otherwise an M or G unit as ParseSize
// reads it ("1024M", "512MiB", "2G", "2GiB", "2gb"). Blanks around it are
// ignored.
func ParseMiB(s string) (int, error) {
	t := strings.TrimSpace(s)
	if t != "" && t[len(t)-1] >= '0' && t[len(t)-1] <= '9' {
		t += "M"
	}
	n, shift, err := parse(t)
	if err != nil || (shift != 20 && shift != 30) || n > maxMiB>>(shift-20) {
		return 0, fmt.Errorf("memory size %q: want a positive number of MiB, optionally with an M or G suffix", s)
	}
	return int(n << (shift - 20)), nil
}

// FormatSize prints a byte count in MiB: "64 MiB", or "1.5 MiB" when it is
// not a whole number of them.
func FormatSize(n int64) string {
	if n%MiB == 0 {
		return fmt.Sprintf("%d MiB", n/MiB)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/MiB)
}

// Human prints a byte count in binary units with one decimal ("512 B",
// "1.5 KiB", "3.0 MiB", "1.2 GiB"): how progress and transfer messages
// state sizes, everywhere.
func Human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
