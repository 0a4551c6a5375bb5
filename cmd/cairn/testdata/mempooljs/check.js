// Reads a Cairn node's explorer through @mempool/mempool.js, as an
// application built on mempool.space's client would, and prints what it
// read as one JSON object for TestE2EMempoolJS to compare with JSON-RPC.
//
// Usage: node check.js HOST:PORT ADDRESS TXID
'use strict';
const mempoolJS = require('@mempool/mempool.js');

async function main() {
  const [hostname, address, txid] = process.argv.slice(2);
  const { bitcoin: { addresses, blocks, difficulty, fees, mempool, transactions } } =
    mempoolJS({ hostname, protocol: 'http', network: 'main' });
  const out = {};
  out.tipHeight = await blocks.getBlocksTipHeight();
  out.tipHash = await blocks.getBlocksTipHash();
  out.block = await blocks.getBlock({ hash: out.tipHash });
  out.blocks = await blocks.getBlocks({ start_height: out.tipHeight });
  out.blockStatus = await blocks.getBlockStatus({ hash: out.tipHash });
  out.blockTxids = await blocks.getBlockTxids({ hash: out.tipHash });
  out.blockTxs = await blocks.getBlockTxs({ hash: out.tipHash, start_index: 0 });
  out.blockHeader = await blocks.getBlockHeader({ hash: out.tipHash });
  out.blockAtHeight = await blocks.getBlockHeight({ height: 1 });
  out.tx = await transactions.getTx({ txid });
  out.txStatus = await transactions.getTxStatus({ txid });
  out.txHex = await transactions.getTxHex({ txid });
  out.txMerkleProof = await transactions.getTxMerkleProof({ txid });
  out.txMerkleBlockProof = await transactions.getTxMerkleBlockProof({ txid });
  out.txOutspends = await transactions.getTxOutspends({ txid });
  out.address = await addresses.getAddress({ address });
  out.addressTxs = await addresses.getAddressTxs({ address });
  out.addressUtxo = await addresses.getAddressTxsUtxo({ address });
  out.feesRecommended = await fees.getFeesRecommended();
  out.mempoolBlocks = await fees.getFeesMempoolBlocks();
  out.cpfp = await fees.getCPFP({ txid });
  out.mempool = await mempool.getMempool();
  out.mempoolTxids = await mempool.getMempoolTxids();
  out.mempoolRecent = await mempool.getMempoolRecent();
  out.difficultyAdjustment = await difficulty.getDifficultyAdjustment();
  out.hashrate = await difficulty.getHashrate({ interval: '1m' });
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  const detail = err.response ? ` (${err.response.status} ${JSON.stringify(err.response.data)} from ${err.config.url})` : '';
  process.stderr.write(`mempool.js: ${err.message}${detail}\n`);
  process.exit(1);
});
