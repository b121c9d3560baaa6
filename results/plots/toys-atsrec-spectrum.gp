set terminal svg size 800,500 noenhanced font 'Sans,10'
set output "results/plots/toys-atsrec-spectrum.svg"
set title "Toys_and_Games: item-table singular values / largest"
set xlabel 'index'
set grid
set key top right
plot "results/plots/toys-atsrec-spectrum.dat" index 0 using 1:2 with lines lw 2 title "elecrec-padded", "results/plots/toys-atsrec-spectrum.dat" index 1 using 1:2 with lines lw 2 title "elecrec-split", "results/plots/toys-atsrec-spectrum.dat" index 2 using 1:2 with lines lw 2 title "sasrec-atsrec", "results/plots/toys-atsrec-spectrum.dat" index 3 using 1:2 with lines lw 2 title "sasrec-bce", "results/plots/toys-atsrec-spectrum.dat" index 4 using 1:2 with lines lw 2 title "sasrec-cce"
