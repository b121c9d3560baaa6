set terminal svg size 1200,450 noenhanced font 'Sans,10'
set output "results/plots/beauty-table-curves.svg"
set multiplot layout 1,2
set key bottom right
set grid
set xlabel 'epoch'
set title "Beauty: validation ndcg@20"
plot "results/plots/beauty-table-curves.dat" index 0 using 1:3 with lines lw 2 title "bert4rec", "results/plots/beauty-table-curves.dat" index 1 using 1:3 with lines lw 2 title "gru4rec-cce", "results/plots/beauty-table-curves.dat" index 2 using 1:3 with lines lw 2 title "gru4rec-ce", "results/plots/beauty-table-curves.dat" index 3 using 1:3 with lines lw 2 title "sasrec-bce", "results/plots/beauty-table-curves.dat" index 4 using 1:3 with lines lw 2 title "sasrec-cce", "results/plots/beauty-table-curves.dat" index 5 using 1:3 with lines lw 2 title "sasrec-genni", "results/plots/beauty-table-curves.dat" index 6 using 1:3 with lines lw 2 title "sasrec-sampled-softmax"
set key top right
set title "Beauty: training loss"
set logscale y
plot "results/plots/beauty-table-curves.dat" index 0 using 1:2 with lines lw 2 title "bert4rec", "results/plots/beauty-table-curves.dat" index 1 using 1:2 with lines lw 2 title "gru4rec-cce", "results/plots/beauty-table-curves.dat" index 2 using 1:2 with lines lw 2 title "gru4rec-ce", "results/plots/beauty-table-curves.dat" index 3 using 1:2 with lines lw 2 title "sasrec-bce", "results/plots/beauty-table-curves.dat" index 4 using 1:2 with lines lw 2 title "sasrec-cce", "results/plots/beauty-table-curves.dat" index 5 using 1:2 with lines lw 2 title "sasrec-genni", "results/plots/beauty-table-curves.dat" index 6 using 1:2 with lines lw 2 title "sasrec-sampled-softmax"
unset multiplot
