// Command etcd is etcd's own entry point, built from the module proxy because
// go.etcd.io/etcd/server/v3 cannot be `go install`ed (its go.mod has path replaces).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
