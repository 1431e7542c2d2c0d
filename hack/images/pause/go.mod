module kubeplus/images/pause

go 1.26
