package units

import (
	"math"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64  // when err is ""
		err  string // a substring of the error
	}{
		{in: "1", want: 1},
		{in: "512", want: 512},
		{in: "512B", want: 512},
		{in: "512b", want: 512},
		{in: "4K", want: 4 << 10},
		{in: "4k", want: 4 << 10},
		{in: "4KB", want: 4 << 10},
		{in: "4Ki", want: 4 << 10},
		{in: "4KiB", want: 4 << 10},
		{in: "4kib", want: 4 << 10},
		{in: "512M", want: 512 << 20},
		{in: "512m", want: 512 << 20},
		{in: "512MB", want: 512 << 20},
		{in: "512MiB", want: 512 << 20},
		{in: "2G", want: 2 << 30},
		{in: "2g", want: 2 << 30},
		{in: "2GiB", want: 2 << 30},
		{in: "2Gi", want: 2 << 30},
		{in: "2gb", want: 2 << 30},
		{in: "3T", want: 3 << 40},
		{in: "3TiB", want: 3 << 40},
		{in: "3t", want: 3 << 40},
		{in: "007M", want: 7 << 20},
		{in: "9223372036854775807", want: math.MaxInt64},
		{in: "9223372036854775807B", want: math.MaxInt64},
		{in: "8388607T", want: 8388607 << 40},
		{in: "8589934591G", want: 8589934591 << 30},

		// overflow: n * unit past int64, and n itself past int64
		{in: "17179869184G", err: "too large"},
		{in: "8589934592G", err: "too large"},
		{in: "8388608T", err: "too large"},
		{in: "9007199254740992K", err: "too large"},
		{in: "9223372036854775808", err: "too large"},
		{in: "99999999999999999999999T", err: "too large"},

		{in: "", err: "want a positive size"},
		{in: "0", err: "want a positive size"},
		{in: "0G", err: "want a positive size"},
		{in: "-1", err: "want a positive size"},
		{in: "-1G", err: "want a positive size"},
		{in: "+1G", err: "want a positive size"},
		{in: "G", err: "want a positive size"},
		{in: "1.5G", err: "want a positive size"},
		{in: "1 G", err: "want a positive size"},
		{in: " 1G", err: "want a positive size"},
		{in: "1G ", err: "want a positive size"},
		{in: "1X", err: "want a positive size"},
		{in: "1P", err: "want a positive size"},
		{in: "1GG", err: "want a positive size"},
		{in: "1GiBB", err: "want a positive size"},
		{in: "1Gb2", err: "want a positive size"},
		{in: "1iB", err: "want a positive size"},
		{in: "1kı", err: "want a positive size"},
		{in: "0x10", err: "want a positive size"},
	} {
		got, err := ParseSize(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseSize(%q) = %d, %v; want an error with %q", tc.in, got, err, tc.err)
		case tc.err != "" && !strings.Contains(err.Error(), `"`+tc.in+`"`):
			t.Errorf("ParseSize(%q): error %q does not quote the whole input", tc.in, err)
		}
	}
}

func TestParseMiB(t *testing.T) {
	tests := []struct {
		in   string
		want int // 0: error
	}{
		{"1024", 1024}, {"1024M", 1024}, {"512m", 512}, {"512MiB", 512}, {"256MB", 256},
		{"2G", 2048}, {"2g", 2048}, {"1GiB", 1024}, {" 4G ", 4096}, {"1048576M", 1 << 20}, {"1024G", 1 << 20},
		{"", 0}, {"0", 0}, {"-1", 0}, {"1T", 0}, {"1K", 0}, {"1B", 0}, {"1.5G", 0}, {"G", 0}, {"99999999999G", 0},
		{"1073741825", 0}, {"1048577G", 0},
	}
	for _, tt := range tests {
		got, err := ParseMiB(tt.in)
		if tt.want == 0 {
			if err == nil || !strings.Contains(err.Error(), "MiB") {
				t.Errorf("ParseMiB(%q) = %d, %v; want an error that says MiB", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseMiB(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 MiB", 64 << 20: "64 MiB", 3 << 19: "1.5 MiB", 5 << 30: "5120 MiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestHuman(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 3 << 20: "3.0 MiB", 5 << 29: "2.5 GiB"} {
		if got := Human(n); got != want {
			t.Errorf("Human(%d) = %q, want %q", n, got, want)
		}
	}
}
