package main

import "github.com/sirupsen/logrus"

// Libraries we use (containerd's content store, BuildKit's client) log
// warnings through logrus that mean nothing to a user, e.g. "failed check
// for fsverity support"; errors still reach the user as returned errors.
func init() { logrus.SetLevel(logrus.ErrorLevel) }
