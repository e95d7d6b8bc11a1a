// The portal's map (/beteiligung/karte): the processes of the list as markers over their
// geometries, drawn by the self-hosted Leaflet. The page's list of the same processes is the
// accessible alternative and works without this script. Tiles only when the operator
// configured a source (data-tiles); otherwise the markers stand on a blank ground and the page
// requests nothing from another host.
(function () {
  'use strict';
  var el = document.getElementById('karte');
  if (!el || !window.L) return;
  var lang = document.documentElement.lang || 'de';
  var map = L.map(el, { scrollWheelZoom: false }).setView([51.16, 10.45], 6);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || '' }).addTo(map);
  }
  function text(map) {
    if (!map || typeof map !== 'object') return '';
    return map[lang] || map.de || map.en || Object.values(map)[0] || '';
  }
  var style = { color: '#1f5f8b', weight: 2, fillOpacity: 0.25 };
  var layer = L.geoJSON(null, {
    style: function () { return style; },
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, { radius: 7, color: '#1f5f8b', weight: 2, fillOpacity: 0.7 });
    },
    onEachFeature: function (feature, marker) {
      var link = document.createElement('a');
      link.href = '/beteiligung/' + encodeURIComponent(feature.id);
      link.textContent = text(feature.properties && feature.properties.title) || feature.id;
      marker.bindPopup(link);
    },
  }).addTo(map);
  var shown = 0;
  // The feed gives 100 a page; a map of more than 5,000 processes asks for a narrower filter.
  function load(page) {
    var url = el.dataset.geojson + (el.dataset.geojson.indexOf('?') < 0 ? '?' : '&') + 'per_page=100&page=' + page;
    return fetch(url, { headers: { accept: 'application/geo+json' } })
      .then(function (r) { return r.ok ? r.json() : { features: [] }; })
      .then(function (data) {
        var features = (data.features || []).filter(function (f) { return f.geometry; });
        layer.addData(features);
        shown += features.length;
        if ((data.features || []).length === 100 && page < 50) return load(page + 1);
      });
  }
  load(1).then(function () {
    el.dataset.markers = String(shown);
    if (shown > 0) map.fitBounds(layer.getBounds(), { maxZoom: 14, padding: [20, 20] });
  });
})();
