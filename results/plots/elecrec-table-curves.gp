set terminal svg size 1400,1580 noenhanced font 'Sans,10'
set output "results/plots/elecrec-table-curves.svg"
set multiplot layout 4,2 title "ELECRec paper comparison: learning curves (lowest seed)"
set grid
set xlabel 'epoch'
unset key
unset logscale y
set title "Beauty: validation ndcg@20"
plot "results/plots/elecrec-table-curves.dat" index 0 using 1:3 with lines lc rgb '#0072B2' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 1 using 1:3 with lines lc rgb '#D55E00' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 2 using 1:3 with lines lc rgb '#009E73' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 3 using 1:3 with lines lc rgb '#CC79A7' dt 1 lw 2 notitle
set key outside right top
set logscale y
set title "Beauty: training loss"
plot "results/plots/elecrec-table-curves.dat" index 0 using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-curves.dat" index 1 using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-curves.dat" index 2 using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-curves.dat" index 3 using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
unset key
unset logscale y
set title "Sports_and_Outdoors: validation ndcg@20"
plot "results/plots/elecrec-table-curves.dat" index 4 using 1:3 with lines lc rgb '#0072B2' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 5 using 1:3 with lines lc rgb '#D55E00' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 6 using 1:3 with lines lc rgb '#009E73' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 7 using 1:3 with lines lc rgb '#CC79A7' dt 1 lw 2 notitle
set key outside right top
set logscale y
set title "Sports_and_Outdoors: training loss"
plot "results/plots/elecrec-table-curves.dat" index 4 using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-curves.dat" index 5 using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-curves.dat" index 6 using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-curves.dat" index 7 using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
unset key
unset logscale y
set title "Toys_and_Games: validation ndcg@20"
plot "results/plots/elecrec-table-curves.dat" index 8 using 1:3 with lines lc rgb '#0072B2' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 9 using 1:3 with lines lc rgb '#D55E00' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 10 using 1:3 with lines lc rgb '#009E73' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 11 using 1:3 with lines lc rgb '#CC79A7' dt 1 lw 2 notitle
set key outside right top
set logscale y
set title "Toys_and_Games: training loss"
plot "results/plots/elecrec-table-curves.dat" index 8 using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-curves.dat" index 9 using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-curves.dat" index 10 using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-curves.dat" index 11 using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
unset key
unset logscale y
set title "Yelp: validation ndcg@20"
plot "results/plots/elecrec-table-curves.dat" index 12 using 1:3 with lines lc rgb '#0072B2' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 13 using 1:3 with lines lc rgb '#D55E00' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 14 using 1:3 with lines lc rgb '#009E73' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index 15 using 1:3 with lines lc rgb '#CC79A7' dt 1 lw 2 notitle
set key outside right top
set logscale y
set title "Yelp: training loss"
plot "results/plots/elecrec-table-curves.dat" index 12 using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-curves.dat" index 13 using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-curves.dat" index 14 using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-curves.dat" index 15 using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
unset multiplot
