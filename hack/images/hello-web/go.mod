module kubeplus/images/hello-web

go 1.26
