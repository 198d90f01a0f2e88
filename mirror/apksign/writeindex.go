package apksign

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rsa"
	"fmt"
	"io"
	"time"
)

// WriteIndex writes a signed APKINDEX.tar.gz holding DESCRIPTION and
// apkindex. The output depends only on its inputs and the key: tar entries
// carry fixed owners and s.ModTime, and gzip headers have no name or mtime,
// so a re-run over an unchanged index is byte-identical.
func (s *Signer) WriteIndex(w io.Writer, apkindex []byte, description string) error {
	if err := s.writeIndex(w, apkindex, description); err != nil {
		return fmt.Errorf("apksign: write index: %w", err)
	}
	return nil
}

func (s *Signer) writeIndex(w io.Writer, apkindex []byte, description string) error {
	if s.Key == nil || s.KeyName == "" {
		return fmt.Errorf("signer needs a key and a key name")
	}
	var content bytes.Buffer
	err := s.writeMember(&content, true, []tarFile{
		{"DESCRIPTION", []byte(description)},
		{"APKINDEX", apkindex},
	})
	if err != nil {
		return err
	}
	sigFile, err := s.sign(content.Bytes())
	if err != nil {
		return err
	}
	var sigMember bytes.Buffer
	if err := s.writeMember(&sigMember, false, []tarFile{sigFile}); err != nil {
		return err
	}
	if _, err := w.Write(sigMember.Bytes()); err != nil {
		return err
	}
	_, err = w.Write(content.Bytes())
	return err
}

// sign returns the ".SIGN.<alg>.<keyname>" entry for the signed member.
func (s *Signer) sign(signed []byte) (tarFile, error) {
	alg := s.Algorithm
	if alg == "" {
		alg = sigAlgRSA256
	}
	var h crypto.Hash
	for _, a := range sigAlgorithms {
		if a.name == alg {
			h = a.hash
		}
	}
	if h == 0 {
		return tarFile{}, fmt.Errorf("unsupported signature algorithm %q", alg)
	}
	hh := h.New()
	hh.Write(signed)
	// PKCS#1 v1.5 is deterministic, which keeps the output reproducible.
	sig, err := rsa.SignPKCS1v15(nil, s.Key, h, hh.Sum(nil))
	if err != nil {
		return tarFile{}, err
	}
	return tarFile{signPrefix + alg + "." + s.KeyName, sig}, nil
}

type tarFile struct {
	name string
	data []byte
}

// writeMember writes files as one gzip member. Only the final member may
// carry tar end-of-archive blocks (end): apk-tools reads the members as one
// continuous tar stream and would stop at them.
func (s *Signer) writeMember(w io.Writer, end bool, files []tarFile) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	mtime := s.ModTime
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	tw := tar.NewWriter(zw)
	for _, f := range files {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.name,
			Mode:     0o644,
			Size:     int64(len(f.data)),
			ModTime:  mtime.UTC().Truncate(time.Second),
			Uname:    "root",
			Gname:    "root",
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if end {
		err = tw.Close()
	} else {
		err = tw.Flush()
	}
	if err != nil {
		return err
	}
	return zw.Close()
}
