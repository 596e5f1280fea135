module cratesim

go 1.26
