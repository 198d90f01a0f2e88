package qemu

import "testing"

func TestKernelCmdline(t *testing.T) {
	tests := []struct {
		name, base, extra, arch string
		kind                    Kind
		want                    string
	}{
		{"empty amd64", "", "", "amd64", KindKernelInitrd, "console=ttyS0 panic=-1"},
		{"empty arm64", "", "", "arm64", KindKernelInitrd, "console=ttyAMA0 panic=-1"},
		{"newline and spaces from NAME-cmdline", "  quiet\n", "", "amd64", KindKernelInitrd, "quiet console=ttyS0 panic=-1"},
		{"console kept", "console=tty0 console=ttyS0", "", "amd64", KindKernelInitrd, "console=tty0 console=ttyS0 panic=-1"},
		{"linuxkit default", "console=tty0 console=ttyS0 console=ttyAMA0", "", "arm64", KindKernelInitrd,
			"console=tty0 console=ttyS0 console=ttyAMA0 panic=-1"},
		{"panic kept", "panic=10", "", "amd64", KindKernelInitrd, "panic=10 console=ttyS0"},
		{"extra appended", "quiet", "rdinit=/nonexistent", "amd64", KindKernelInitrd, "quiet rdinit=/nonexistent console=ttyS0 panic=-1"},
		{"extra sets console", "quiet", "console=hvc0", "amd64", KindKernelInitrd, "quiet console=hvc0 panic=-1"},
		{"prefix is no param", "consoleblank=0 panicky", "", "amd64", KindKernelInitrd, "consoleblank=0 panicky console=ttyS0 panic=-1"},
		{"init args stay last", "quiet -- single", "", "amd64", KindKernelInitrd, "quiet console=ttyS0 panic=-1 -- single"},
		{"init args after extra", "quiet -- single", "debug", "amd64", KindKernelInitrd, "quiet debug console=ttyS0 panic=-1 -- single"},
		{"init args from both", "quiet -- single", "-- emergency", "amd64", KindKernelInitrd, "quiet console=ttyS0 panic=-1 -- single emergency"},
		{"console after -- is init's", "quiet -- console=x", "", "amd64", KindKernelInitrd, "quiet console=ttyS0 panic=-1 -- console=x"},
		{"squashfs root", "quiet", "", "amd64", KindKernelSquashfs, "quiet console=ttyS0 panic=-1 root=/dev/vda"},
		{"squashfs root kept", "root=/dev/sda", "", "arm64", KindKernelSquashfs, "root=/dev/sda console=ttyAMA0 panic=-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kernelCmdline(tt.base, tt.extra, tt.arch, tt.kind); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
