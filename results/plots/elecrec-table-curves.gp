set terminal svg size 1200,450 noenhanced font 'Sans,10'
set output "results/plots/elecrec-table-curves.svg"
set multiplot layout 1,2
set key bottom right
set grid
set xlabel 'epoch'
set title "ELECRec paper comparison: validation ndcg@20"
plot "results/plots/elecrec-table-curves.dat" index 0 using 1:3 with lines lw 2 title "bert4rec / Beauty", "results/plots/elecrec-table-curves.dat" index 1 using 1:3 with lines lw 2 title "elecrec / Beauty", "results/plots/elecrec-table-curves.dat" index 2 using 1:3 with lines lw 2 title "sasrec-bce / Beauty", "results/plots/elecrec-table-curves.dat" index 3 using 1:3 with lines lw 2 title "sasrec-cce / Beauty", "results/plots/elecrec-table-curves.dat" index 4 using 1:3 with lines lw 2 title "elecrec / Toys_and_Games", "results/plots/elecrec-table-curves.dat" index 5 using 1:3 with lines lw 2 title "sasrec-bce / Toys_and_Games", "results/plots/elecrec-table-curves.dat" index 6 using 1:3 with lines lw 2 title "sasrec-cce / Toys_and_Games"
set key top right
set title "ELECRec paper comparison: training loss"
set logscale y
plot "results/plots/elecrec-table-curves.dat" index 0 using 1:2 with lines lw 2 title "bert4rec / Beauty", "results/plots/elecrec-table-curves.dat" index 1 using 1:2 with lines lw 2 title "elecrec / Beauty", "results/plots/elecrec-table-curves.dat" index 2 using 1:2 with lines lw 2 title "sasrec-bce / Beauty", "results/plots/elecrec-table-curves.dat" index 3 using 1:2 with lines lw 2 title "sasrec-cce / Beauty", "results/plots/elecrec-table-curves.dat" index 4 using 1:2 with lines lw 2 title "elecrec / Toys_and_Games", "results/plots/elecrec-table-curves.dat" index 5 using 1:2 with lines lw 2 title "sasrec-bce / Toys_and_Games", "results/plots/elecrec-table-curves.dat" index 6 using 1:2 with lines lw 2 title "sasrec-cce / Toys_and_Games"
unset multiplot
