
(function(){
  var area=document.getElementById('f-area'),out=document.getElementById('f-outcome'),diff=document.getElementById('f-diff');
  var targets=[].slice.call(document.querySelectorAll('.f-target'));
  function apply(){
    var a=area.value,o=out.value,d=diff.checked;
    [].forEach.call(document.querySelectorAll('#matrix tbody tr'),function(tr){
      var show=(!a||tr.dataset.area===a);
      if(tr.classList.contains('feature')){
        if(o&&(' '+tr.dataset.outcomes+' ').indexOf(' '+o+' ')<0)show=false;
        if(d&&tr.dataset.differs!=='true')show=false;
      }
      tr.style.display=show?'':'none';
    });
    targets.forEach(function(cb){
      [].forEach.call(document.querySelectorAll('.col-'+cb.dataset.col),function(c){c.style.display=cb.checked?'':'none';});
    });
  }
  [area,out,diff].concat(targets).forEach(function(el){el.addEventListener('change',apply);});
})();
