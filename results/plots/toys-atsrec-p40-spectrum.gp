set terminal svg size 720,480 noenhanced font 'Sans,10'
set output "results/plots/toys-atsrec-p40-spectrum.svg"
set multiplot layout 1,1 title "Toys_and_Games, patience 40: item-table singular values / largest (lowest seed)"
set xlabel 'index'
set grid
set key top right
set title "Toys_and_Games"
plot "results/plots/toys-atsrec-p40-spectrum.dat" index "[Toys_and_Games|sasrec-atsrec]" using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "sasrec-atsrec", "results/plots/toys-atsrec-p40-spectrum.dat" index "[Toys_and_Games|sasrec-bce]" using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "sasrec-bce"
unset multiplot
