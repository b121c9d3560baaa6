set terminal svg size 1480,1260 noenhanced font 'Sans,10'
set output "results/plots/elecrec-table-bars.svg"
set multiplot layout 2,2 title "ELECRec paper comparison: test ndcg@10, mean ± std over seeds; dashed: the baseline; diamonds: published"
set style fill solid 0.7 border lc rgb 'black'
set boxwidth 0.7
set grid ytics
set yrange [0:*]
set xtics rotate by 45 right nomirror
set bmargin 17
set lmargin 24
unset key
set title "Beauty"
set xrange [-0.6:10.6]
set arrow 1 from graph 0, first 0.057418 to graph 1, first 0.057418 nohead dt 2 lw 1.5 lc rgb '#444444' front
plot "results/plots/elecrec-table-bars.dat" index 0 every ::0::0 using 1:2:xtic(4) with boxes fc rgb '#CC79A7', "results/plots/elecrec-table-bars.dat" index 0 every ::0::0 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 0 every ::1::1 using 1:2:xtic(4) with boxes fc rgb '#D55E00', "results/plots/elecrec-table-bars.dat" index 0 every ::1::1 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 0 every ::2::2 using 1:2:xtic(4) with boxes fc rgb '#0072B2', "results/plots/elecrec-table-bars.dat" index 0 every ::2::2 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 0 every ::3::3 using 1:2:xtic(4) with boxes fc rgb '#009E73', "results/plots/elecrec-table-bars.dat" index 0 every ::3::3 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 0 every ::4::4 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black', "results/plots/elecrec-table-bars.dat" index 0 every ::5::5 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black', "results/plots/elecrec-table-bars.dat" index 0 every ::6::6 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black', "results/plots/elecrec-table-bars.dat" index 0 every ::7::7 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black', "results/plots/elecrec-table-bars.dat" index 0 every ::8::8 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black', "results/plots/elecrec-table-bars.dat" index 0 every ::9::9 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black', "results/plots/elecrec-table-bars.dat" index 0 every ::10::10 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black'
set title "Sports_and_Outdoors"
set xrange [-0.6:3.6]
set arrow 1 from graph 0, first 0.03192 to graph 1, first 0.03192 nohead dt 2 lw 1.5 lc rgb '#444444' front
plot "results/plots/elecrec-table-bars.dat" index 1 every ::0::0 using 1:2:xtic(4) with boxes fc rgb '#CC79A7', "results/plots/elecrec-table-bars.dat" index 1 every ::0::0 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 1 every ::1::1 using 1:2:xtic(4) with boxes fc rgb '#0072B2', "results/plots/elecrec-table-bars.dat" index 1 every ::1::1 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 1 every ::2::2 using 1:2:xtic(4) with boxes fc rgb '#009E73', "results/plots/elecrec-table-bars.dat" index 1 every ::2::2 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 1 every ::3::3 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black'
set title "Toys_and_Games"
set xrange [-0.6:6.6]
set arrow 1 from graph 0, first 0.0621243 to graph 1, first 0.0621243 nohead dt 2 lw 1.5 lc rgb '#444444' front
plot "results/plots/elecrec-table-bars.dat" index 2 every ::0::0 using 1:2:xtic(4) with boxes fc rgb '#D55E00', "results/plots/elecrec-table-bars.dat" index 2 every ::0::0 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 2 every ::1::1 using 1:2:xtic(4) with boxes fc rgb '#CC79A7', "results/plots/elecrec-table-bars.dat" index 2 every ::1::1 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 2 every ::2::2 using 1:2:xtic(4) with boxes fc rgb '#009E73', "results/plots/elecrec-table-bars.dat" index 2 every ::2::2 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 2 every ::3::3 using 1:2:xtic(4) with boxes fc rgb '#0072B2', "results/plots/elecrec-table-bars.dat" index 2 every ::3::3 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 2 every ::4::4 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black', "results/plots/elecrec-table-bars.dat" index 2 every ::5::5 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black', "results/plots/elecrec-table-bars.dat" index 2 every ::6::6 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black'
set title "Yelp"
set xrange [-0.6:3.6]
set arrow 1 from graph 0, first 0.0196647 to graph 1, first 0.0196647 nohead dt 2 lw 1.5 lc rgb '#444444' front
plot "results/plots/elecrec-table-bars.dat" index 3 every ::0::0 using 1:2:xtic(4) with boxes fc rgb '#CC79A7', "results/plots/elecrec-table-bars.dat" index 3 every ::0::0 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 3 every ::1::1 using 1:2:xtic(4) with boxes fc rgb '#0072B2', "results/plots/elecrec-table-bars.dat" index 3 every ::1::1 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 3 every ::2::2 using 1:2:xtic(4) with boxes fc rgb '#009E73', "results/plots/elecrec-table-bars.dat" index 3 every ::2::2 using 1:2:3 with yerrorbars lc rgb 'black' pt 0, "results/plots/elecrec-table-bars.dat" index 3 every ::3::3 using 1:2:xtic(4) with points pt 13 ps 2 lc rgb 'black'
unset multiplot
