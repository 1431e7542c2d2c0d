module kubeplus/images/cpu-burner

go 1.26
