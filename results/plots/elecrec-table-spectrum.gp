set terminal svg size 1280,900 noenhanced font 'Sans,10'
set output "results/plots/elecrec-table-spectrum.svg"
set multiplot layout 2,2 title "ELECRec paper comparison: item-table singular values / largest (lowest seed)"
set xlabel 'index'
set grid
set key top right
set title "Beauty"
plot "results/plots/elecrec-table-spectrum.dat" index "[Beauty|bert4rec]" using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-spectrum.dat" index "[Beauty|elecrec]" using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-spectrum.dat" index "[Beauty|sasrec-bce]" using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-spectrum.dat" index "[Beauty|sasrec-cce]" using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
set title "Sports_and_Outdoors"
plot "results/plots/elecrec-table-spectrum.dat" index "[Sports_and_Outdoors|bert4rec]" using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-spectrum.dat" index "[Sports_and_Outdoors|elecrec]" using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-spectrum.dat" index "[Sports_and_Outdoors|sasrec-bce]" using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-spectrum.dat" index "[Sports_and_Outdoors|sasrec-cce]" using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
set title "Toys_and_Games"
plot "results/plots/elecrec-table-spectrum.dat" index "[Toys_and_Games|bert4rec]" using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-spectrum.dat" index "[Toys_and_Games|elecrec]" using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-spectrum.dat" index "[Toys_and_Games|sasrec-bce]" using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-spectrum.dat" index "[Toys_and_Games|sasrec-cce]" using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
set title "Yelp"
plot "results/plots/elecrec-table-spectrum.dat" index "[Yelp|bert4rec]" using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-spectrum.dat" index "[Yelp|elecrec]" using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-spectrum.dat" index "[Yelp|sasrec-bce]" using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-spectrum.dat" index "[Yelp|sasrec-cce]" using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
unset multiplot
