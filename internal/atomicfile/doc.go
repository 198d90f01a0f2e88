// Package atomicfile writes files so that readers and crashes only ever
// see the old content or the complete new content, never a torn file.
package atomicfile
