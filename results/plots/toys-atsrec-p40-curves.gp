set terminal svg size 1400,440 noenhanced font 'Sans,10'
set output "results/plots/toys-atsrec-p40-curves.svg"
set multiplot layout 1,2 title "Toys_and_Games, patience 40: learning curves (lowest seed)"
set grid
set xlabel 'epoch'
unset key
unset logscale y
set title "Toys_and_Games: validation ndcg@20"
plot "results/plots/toys-atsrec-p40-curves.dat" index "[Toys_and_Games|sasrec-atsrec]" using 1:3 with lines lc rgb '#0072B2' dt 1 lw 2 notitle, "results/plots/toys-atsrec-p40-curves.dat" index "[Toys_and_Games|sasrec-bce]" using 1:3 with lines lc rgb '#D55E00' dt 1 lw 2 notitle
set key outside right top
set logscale y
set title "Toys_and_Games: training loss"
plot "results/plots/toys-atsrec-p40-curves.dat" index "[Toys_and_Games|sasrec-atsrec]" using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "sasrec-atsrec", "results/plots/toys-atsrec-p40-curves.dat" index "[Toys_and_Games|sasrec-bce]" using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "sasrec-bce"
unset multiplot
