set terminal svg size 800,500 noenhanced font 'Sans,10'
set output "results/plots/beauty-table-spectrum.svg"
set title "Beauty: item-table singular values / largest"
set xlabel 'index'
set grid
set key top right
plot "results/plots/beauty-table-spectrum.dat" index 0 using 1:2 with lines lw 2 title "bert4rec", "results/plots/beauty-table-spectrum.dat" index 1 using 1:2 with lines lw 2 title "gru4rec-cce", "results/plots/beauty-table-spectrum.dat" index 2 using 1:2 with lines lw 2 title "gru4rec-ce", "results/plots/beauty-table-spectrum.dat" index 3 using 1:2 with lines lw 2 title "sasrec-bce", "results/plots/beauty-table-spectrum.dat" index 4 using 1:2 with lines lw 2 title "sasrec-cce", "results/plots/beauty-table-spectrum.dat" index 5 using 1:2 with lines lw 2 title "sasrec-genni", "results/plots/beauty-table-spectrum.dat" index 6 using 1:2 with lines lw 2 title "sasrec-sampled-softmax"
