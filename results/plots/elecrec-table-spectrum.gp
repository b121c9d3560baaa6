set terminal svg size 1280,900 noenhanced font 'Sans,10'
set output "results/plots/elecrec-table-spectrum.svg"
set multiplot layout 2,2 title "ELECRec paper comparison: item-table singular values / largest (lowest seed)"
set xlabel 'index'
set grid
set key top right
set title "Beauty"
plot "results/plots/elecrec-table-spectrum.dat" index 0 using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-spectrum.dat" index 1 using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-spectrum.dat" index 2 using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-spectrum.dat" index 3 using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
set title "Sports_and_Outdoors"
plot "results/plots/elecrec-table-spectrum.dat" index 4 using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-spectrum.dat" index 5 using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-spectrum.dat" index 6 using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-spectrum.dat" index 7 using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
set title "Toys_and_Games"
plot "results/plots/elecrec-table-spectrum.dat" index 8 using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-spectrum.dat" index 9 using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-spectrum.dat" index 10 using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-spectrum.dat" index 11 using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
set title "Yelp"
plot "results/plots/elecrec-table-spectrum.dat" index 12 using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-spectrum.dat" index 13 using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-spectrum.dat" index 14 using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-spectrum.dat" index 15 using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
unset multiplot
