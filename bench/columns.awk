# columns.awk - lines of "|"-separated cells as aligned columns: the first
# left-aligned, the others right-aligned, two spaces apart.  The benchmark
# scripts print their tables through it:  ... | awk -F'|' -f columns.awk
{
	for (i = 1; i <= NF; i++) {
		cell[NR, i] = $i
		if (length($i) > width[i])
			width[i] = length($i)
	}
	if (NF > columns)
		columns = NF
}
END {
	for (r = 1; r <= NR; r++) {
		line = ""
		for (i = 1; i <= columns; i++)
			line = line sprintf(i == 1 ? "%-*s" : "  %*s", width[i], cell[r, i])
		print line
	}
}
