module kubeplus/helmer/post-render-shim

go 1.26
