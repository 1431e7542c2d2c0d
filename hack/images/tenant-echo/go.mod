module kubeplus/images/tenant-echo

go 1.26
