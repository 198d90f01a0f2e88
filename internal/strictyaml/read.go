package strictyaml

import (
	"fmt"
	"io"
	"os"
)

// ReadFile reads a YAML file for Decode, refusing one larger than
// MaxBytes without reading more than that: a huge or endless file
// (/dev/zero) fails at once instead of filling memory.
func ReadFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBytes {
		return nil, &Error{File: file, Msg: fmt.Sprintf("is larger than %d MiB, the most a YAML file may be", MaxBytes>>20)}
	}
	return data, nil
}
