set terminal svg size 1200,450 noenhanced font 'Sans,10'
set output "results/plots/toys-atsrec-curves.svg"
set multiplot layout 1,2
set key bottom right
set grid
set xlabel 'epoch'
set title "Toys_and_Games: validation ndcg@20"
plot "results/plots/toys-atsrec-curves.dat" index 0 using 1:3 with lines lw 2 title "elecrec-padded", "results/plots/toys-atsrec-curves.dat" index 1 using 1:3 with lines lw 2 title "elecrec-split", "results/plots/toys-atsrec-curves.dat" index 2 using 1:3 with lines lw 2 title "sasrec-atsrec", "results/plots/toys-atsrec-curves.dat" index 3 using 1:3 with lines lw 2 title "sasrec-bce", "results/plots/toys-atsrec-curves.dat" index 4 using 1:3 with lines lw 2 title "sasrec-cce"
set key top right
set title "Toys_and_Games: training loss"
set logscale y
plot "results/plots/toys-atsrec-curves.dat" index 0 using 1:2 with lines lw 2 title "elecrec-padded", "results/plots/toys-atsrec-curves.dat" index 1 using 1:2 with lines lw 2 title "elecrec-split", "results/plots/toys-atsrec-curves.dat" index 2 using 1:2 with lines lw 2 title "sasrec-atsrec", "results/plots/toys-atsrec-curves.dat" index 3 using 1:2 with lines lw 2 title "sasrec-bce", "results/plots/toys-atsrec-curves.dat" index 4 using 1:2 with lines lw 2 title "sasrec-cce"
unset multiplot
