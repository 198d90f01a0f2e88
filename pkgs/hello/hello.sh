#!/bin/sh
echo "hello from lkpkg on $(uname -m)"
