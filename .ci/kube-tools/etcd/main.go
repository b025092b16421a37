// Command etcd is the etcd server of go.etcd.io/etcd/server/v3, the same
// main as that module's, for the kube-apiserver of the tests of
// internal/provider/kubernetes. .ci/kube.sh builds it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
