set terminal svg size 900,500 noenhanced font 'Sans,10'
set output "results/plots/elecrec-table-bars.svg"
set title "ELECRec paper comparison: test ndcg@10 (mean ± std over seeds)"
set style fill solid 0.6
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set xtics rotate by -30
unset key
plot "results/plots/elecrec-table-bars.dat" using 1:2:xtic(4) with boxes, '' using 1:2:3 with yerrorbars lc rgb 'black' pt 0
