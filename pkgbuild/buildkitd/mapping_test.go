package buildkitd

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseMapping(t *testing.T) {
	tests := []struct {
		in      string
		want    Mapping
		wantErr string // substring; "" = success
	}{
		{in: "", want: Mapping{ByPlatform: map[string]string{}}},
		{in: "tcp://host:1234", want: Mapping{Default: "tcp://host:1234", ByPlatform: map[string]string{}}},
		{in: " unix:///run/buildkit/buildkitd.sock ", want: Mapping{Default: "unix:///run/buildkit/buildkitd.sock", ByPlatform: map[string]string{}}},
		{in: "docker-container://bk?env=a=b", want: Mapping{Default: "docker-container://bk?env=a=b", ByPlatform: map[string]string{}}},
		{
			in: "linux/arm64=tcp://host:1234,linux/amd64=unix:///run/buildkit/buildkitd.sock",
			want: Mapping{ByPlatform: map[string]string{
				"linux/arm64": "tcp://host:1234",
				"linux/amd64": "unix:///run/buildkit/buildkitd.sock",
			}},
		},
		{
			// Platforms are normalised: aarch64 -> arm64, arm64/v8 -> arm64.
			in:   "linux/aarch64=tcp://a:1, linux/x86_64=tcp://b:2",
			want: Mapping{ByPlatform: map[string]string{"linux/arm64": "tcp://a:1", "linux/amd64": "tcp://b:2"}},
		},
		{
			in:   "tcp://default:1,linux/riscv64=tcp://rv:2",
			want: Mapping{Default: "tcp://default:1", ByPlatform: map[string]string{"linux/riscv64": "tcp://rv:2"}},
		},
		{in: "linux/arm64=", wantErr: `"linux/arm64=": empty address`},
		{in: "linux/arm64=tcp://a:1,linux/aarch64=tcp://b:2", wantErr: `"linux/aarch64=tcp://b:2": platform linux/arm64 given more than once`},
		{in: "=tcp://a:1", wantErr: `"=tcp://a:1": empty platform`},
		{in: "not a platform!=tcp://a:1", wantErr: `"not a platform!=tcp://a:1"`},
		{in: "tcp://a:1,,linux/arm64=tcp://b:2", wantErr: "empty entry"},
		{in: "tcp://a:1,tcp://b:2", wantErr: `"tcp://b:2": a default address is already set`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMapping(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMapping(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMapping(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseMapping(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestMappingForAndGroup(t *testing.T) {
	m, err := ParseMapping("linux/arm64=tcp://arm:1,linux/riscv64=tcp://arm:1,linux/amd64=unix:///x.sock")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		"linux/amd64":    "unix:///x.sock",
		"linux/arm64":    "tcp://arm:1",
		"linux/arm64/v8": "tcp://arm:1",
		"linux/riscv64":  "tcp://arm:1",
		"linux/ppc64le":  "", // unmapped, no default: local builder
	} {
		if got := m.For(p); got != want {
			t.Errorf("For(%q) = %q, want %q", p, got, want)
		}
	}

	got := m.Group([]string{"linux/riscv64", "linux/ppc64le", "linux/amd64", "linux/arm64", "linux/amd64"})
	want := []Group{
		{Address: "", Platforms: []string{"linux/ppc64le"}},
		{Address: "tcp://arm:1", Platforms: []string{"linux/arm64", "linux/riscv64"}},
		{Address: "unix:///x.sock", Platforms: []string{"linux/amd64"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Group = %+v, want %+v", got, want)
	}

	single, _ := ParseMapping("tcp://all:1")
	if got := single.Group([]string{"linux/arm64", "linux/amd64"}); !reflect.DeepEqual(got,
		[]Group{{Address: "tcp://all:1", Platforms: []string{"linux/amd64", "linux/arm64"}}}) {
		t.Fatalf("single-address Group = %+v", got)
	}
	if got := (Mapping{}).Group([]string{"linux/amd64"}); !reflect.DeepEqual(got,
		[]Group{{Address: "", Platforms: []string{"linux/amd64"}}}) {
		t.Fatalf("zero Mapping Group = %+v", got)
	}
}
