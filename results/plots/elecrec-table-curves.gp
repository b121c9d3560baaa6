set terminal svg size 1400,1580 noenhanced font 'Sans,10'
set output "results/plots/elecrec-table-curves.svg"
set multiplot layout 4,2 title "ELECRec paper comparison: learning curves (lowest seed)"
set grid
set xlabel 'epoch'
unset key
unset logscale y
set title "Beauty: validation ndcg@20"
plot "results/plots/elecrec-table-curves.dat" index "[Beauty|bert4rec]" using 1:3 with lines lc rgb '#0072B2' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Beauty|elecrec]" using 1:3 with lines lc rgb '#D55E00' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Beauty|sasrec-bce]" using 1:3 with lines lc rgb '#009E73' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Beauty|sasrec-cce]" using 1:3 with lines lc rgb '#CC79A7' dt 1 lw 2 notitle
set key outside right top
set logscale y
set title "Beauty: training loss"
plot "results/plots/elecrec-table-curves.dat" index "[Beauty|bert4rec]" using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-curves.dat" index "[Beauty|elecrec]" using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-curves.dat" index "[Beauty|sasrec-bce]" using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-curves.dat" index "[Beauty|sasrec-cce]" using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
unset key
unset logscale y
set title "Sports_and_Outdoors: validation ndcg@20"
plot "results/plots/elecrec-table-curves.dat" index "[Sports_and_Outdoors|bert4rec]" using 1:3 with lines lc rgb '#0072B2' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Sports_and_Outdoors|elecrec]" using 1:3 with lines lc rgb '#D55E00' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Sports_and_Outdoors|sasrec-bce]" using 1:3 with lines lc rgb '#009E73' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Sports_and_Outdoors|sasrec-cce]" using 1:3 with lines lc rgb '#CC79A7' dt 1 lw 2 notitle
set key outside right top
set logscale y
set title "Sports_and_Outdoors: training loss"
plot "results/plots/elecrec-table-curves.dat" index "[Sports_and_Outdoors|bert4rec]" using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-curves.dat" index "[Sports_and_Outdoors|elecrec]" using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-curves.dat" index "[Sports_and_Outdoors|sasrec-bce]" using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-curves.dat" index "[Sports_and_Outdoors|sasrec-cce]" using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
unset key
unset logscale y
set title "Toys_and_Games: validation ndcg@20"
plot "results/plots/elecrec-table-curves.dat" index "[Toys_and_Games|bert4rec]" using 1:3 with lines lc rgb '#0072B2' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Toys_and_Games|elecrec]" using 1:3 with lines lc rgb '#D55E00' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Toys_and_Games|sasrec-bce]" using 1:3 with lines lc rgb '#009E73' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Toys_and_Games|sasrec-cce]" using 1:3 with lines lc rgb '#CC79A7' dt 1 lw 2 notitle
set key outside right top
set logscale y
set title "Toys_and_Games: training loss"
plot "results/plots/elecrec-table-curves.dat" index "[Toys_and_Games|bert4rec]" using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-curves.dat" index "[Toys_and_Games|elecrec]" using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-curves.dat" index "[Toys_and_Games|sasrec-bce]" using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-curves.dat" index "[Toys_and_Games|sasrec-cce]" using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
unset key
unset logscale y
set title "Yelp: validation ndcg@20"
plot "results/plots/elecrec-table-curves.dat" index "[Yelp|bert4rec]" using 1:3 with lines lc rgb '#0072B2' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Yelp|elecrec]" using 1:3 with lines lc rgb '#D55E00' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Yelp|sasrec-bce]" using 1:3 with lines lc rgb '#009E73' dt 1 lw 2 notitle, "results/plots/elecrec-table-curves.dat" index "[Yelp|sasrec-cce]" using 1:3 with lines lc rgb '#CC79A7' dt 1 lw 2 notitle
set key outside right top
set logscale y
set title "Yelp: training loss"
plot "results/plots/elecrec-table-curves.dat" index "[Yelp|bert4rec]" using 1:2 with lines lc rgb '#0072B2' dt 1 lw 2 title "bert4rec", "results/plots/elecrec-table-curves.dat" index "[Yelp|elecrec]" using 1:2 with lines lc rgb '#D55E00' dt 1 lw 2 title "elecrec", "results/plots/elecrec-table-curves.dat" index "[Yelp|sasrec-bce]" using 1:2 with lines lc rgb '#009E73' dt 1 lw 2 title "sasrec-bce", "results/plots/elecrec-table-curves.dat" index "[Yelp|sasrec-cce]" using 1:2 with lines lc rgb '#CC79A7' dt 1 lw 2 title "sasrec-cce"
unset multiplot
