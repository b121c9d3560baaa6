set terminal svg size 699,608 noenhanced font 'Sans,10'
set output "results/plots/toys-atsrec-bars.svg"
set multiplot layout 1,1 title "Toys_and_Games: test ndcg@10, mean ± std over seeds; dashed: sasrec-bce; diamonds: published"
set style fill solid 0.7 border lc rgb 'black'
set boxwidth 0.7
set grid ytics
set yrange [0:*]
set xtics rotate by 45 right nomirror
set bmargin 13
set lmargin 17
unset key
set title "Toys_and_Games"
set xrange [-0.6:7.6]
set arrow 1 from graph 0, first 0.037855 to graph 1, first 0.037855 nohead dt 2 lw 1.5 lc rgb '#444444' front
plot "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::0::0 using 1:2:xtic(4) with boxes fc rgb '#0072B2', "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::0::0 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::1::1 using 1:2:xtic(4) with boxes fc rgb '#E69F00', "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::1::1 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::2::2 using 1:2:xtic(4) with boxes fc rgb '#D55E00', "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::2::2 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::3::3 using 1:2:xtic(4) with boxes fc rgb '#009E73', "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::3::3 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::4::4 using 1:2:xtic(4) with boxes fc rgb '#CC79A7', "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::4::4 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::5::5 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black', "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::6::6 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black', "results/plots/toys-atsrec-bars.dat" index "[Toys_and_Games|bars]" every ::7::7 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black'
unset multiplot
