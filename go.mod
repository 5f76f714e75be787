module github.com/mapperhq/mapper

go 1.26
