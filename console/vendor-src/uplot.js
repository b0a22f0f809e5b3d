// uPlot's ES module build, minified: the live and result charts.
export { default } from 'uplot';
