set terminal svg size 800,500 noenhanced font 'Sans,10'
set output "results/plots/elecrec-table-spectrum.svg"
set title "ELECRec paper comparison: item-table singular values / largest"
set xlabel 'index'
set grid
set key top right
plot "results/plots/elecrec-table-spectrum.dat" index 0 using 1:2 with lines lw 2 title "bert4rec / Beauty", "results/plots/elecrec-table-spectrum.dat" index 1 using 1:2 with lines lw 2 title "elecrec / Beauty", "results/plots/elecrec-table-spectrum.dat" index 2 using 1:2 with lines lw 2 title "sasrec-bce / Beauty", "results/plots/elecrec-table-spectrum.dat" index 3 using 1:2 with lines lw 2 title "sasrec-cce / Beauty", "results/plots/elecrec-table-spectrum.dat" index 4 using 1:2 with lines lw 2 title "elecrec / Toys_and_Games", "results/plots/elecrec-table-spectrum.dat" index 5 using 1:2 with lines lw 2 title "sasrec-bce / Toys_and_Games", "results/plots/elecrec-table-spectrum.dat" index 6 using 1:2 with lines lw 2 title "sasrec-cce / Toys_and_Games"
